"""Common Indian surnames, in Latin and Devanagari script.

A capitalised pair that ends in one of these ("Naveen Joshi", "पप्पू यादव")
is taken as a person's name even where the complaint does not introduce it.
Words that are also everyday nouns or adjectives in Hindi ("लाल", red) are
left out of the Devanagari list.
"""

from __future__ import annotations

SURNAMES_EN = frozenset(
    """
    Sharma Verma Gupta Singh Kumar Yadav Joshi Patel Shah Mehta Jain Agarwal Aggarwal Agrawal Mishra Tiwari
    Tiwary Pandey Dubey Chauhan Rathore Rajput Thakur Malhotra Khanna Kapoor Chopra Arora Bhatia Sethi Saxena
    Srivastava Shukla Tripathi Chaturvedi Dwivedi Trivedi Nair Menon Pillai Iyer Iyengar Reddy Rao Naidu Das
    Dutta Ghosh Bose Banerjee Chatterjee Mukherjee Sen Roy Jadhav Patil Pawar Deshmukh Kulkarni Shinde Gaikwad
    Khan Ansari Qureshi Siddiqui Sheikh Shaikh Ahmed Ali Hussain Prasad Lal Nath Devi Kaur Gill Sandhu Dhillon
    Grewal Bajwa Solanki Parmar Chaudhary Choudhary Meena Gurjar Soni Prajapat Prajapati Kushwaha Maurya
    Nishad Paswan Rawat Negi Bisht Nanda Bhatt Goswami Saini Bansal Goyal Mittal Garg Singhal Rastogi Awasthi
    Bajpai Sinha Jha Mahto Rehman Ishaq Fernandes Pinto Gomes Varghese Thomas Joseph George Mathew Kohli
    Bhardwaj Vyas Purohit Desai Bhosale Rane Naik Hegde Shetty Gowda Murthy Krishnan Subramanian Chandra Tyagi
    Dixit Pathak Upadhyay Kashyap Sahu Behera Mohanty Panda Nayak Swain Barua Bora Gogoi Kalita Lodhi Rajak
    Valmiki Chahal Sidhu Randhawa Virk Ahuja Batra Kalra Luthra Oberoi Sachdeva Talwar Wadhwa Jadeja Vaghela
    Makwana Rana Raju Yadava
    """.split()
)

SURNAMES_HI = frozenset(
    """
    शर्मा वर्मा गुप्ता सिंह कुमार यादव जोशी पटेल शाह मेहता जैन अग्रवाल मिश्रा तिवारी पांडे पाण्डेय पांडेय दुबे
    चौहान राठौर राजपूत ठाकुर मल्होत्रा खन्ना कपूर अरोड़ा सक्सेना श्रीवास्तव शुक्ला त्रिपाठी चतुर्वेदी द्विवेदी
    त्रिवेदी राव दास घोष बोस रॉय जाधव पाटिल पवार खान अंसारी कुरैशी सिद्दीकी शेख अहमद अली हुसैन प्रसाद देवी कौर
    चौधरी मीणा गुर्जर सोनी प्रजापत प्रजापति कुशवाहा मौर्य निषाद पासवान रावत नेगी बिष्ट भट्ट गोस्वामी सैनी बंसल
    गोयल मित्तल गर्ग सिन्हा झा महतो रहमान त्यागी दीक्षित पाठक उपाध्याय कश्यप साहू राणा लोधी
    """.split()
)
